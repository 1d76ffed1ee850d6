import { ConfigError, loadConfig, type Config } from './config.ts';

/** For the Node entry points: parse the environment once, or print what is wrong and exit 2. */
export function configFromProcess(): Config {
  try {
    // The only place that reads process.env.
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`jaga: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
