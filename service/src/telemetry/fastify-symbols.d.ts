// Types for the one Fastify internal the request telemetry reads: the symbol
// under which a request keeps the route context it matched (fastify/lib/symbols.js,
// a CommonJS object of symbols). telemetry/http-server.ts checks at load that it
// is there, and service/test/telemetry.test.ts that routes are still told apart.
declare module 'fastify/lib/symbols.js' {
  const symbols: { readonly kRouteContext?: symbol } & Readonly<Record<string, symbol>>;
  export default symbols;
}
