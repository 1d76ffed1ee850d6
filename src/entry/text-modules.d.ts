// Text modules bundled by wrangler (see wrangler.toml [[rules]]).
declare module '*.yaml' {
  const text: string;
  export default text;
}
