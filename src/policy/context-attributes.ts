import type { Principal } from '../identity/principal.ts';
import type { Action, Decision, SubjectType } from './engine.types.ts';

/**
 * Attributes that depend on who asks and for which purpose, not only on the resource (an
 * agreement covering a service principal's read: src/agreements). The decision service adds them
 * to the resource's attributes before the engine decides, so rules name them like any other
 * attribute, and replaces whatever a caller said for them (a caller never supplies its own).
 */
export interface ContextAttributes {
  add(
    principal: Principal,
    subject: SubjectType,
    resource: Record<string, unknown>,
    purpose: string | null,
  ): Promise<{ resource: Record<string, unknown>; agreementId: string | null }>;
  /** The engine's decision, held to what the added attributes allow whatever role decided it. */
  settle(
    principal: Principal,
    action: Action,
    subject: SubjectType,
    resource: Record<string, unknown>,
    decision: Decision,
  ): Decision;
}
