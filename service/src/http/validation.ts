// Request validation: Fastify's Ajv compiler, with two deliberate changes.
//
//  * Bodies are not type-coerced. JSON already has types; `{"message": 1}`
//    for a string field is the caller's bug and gets a 400 naming the field,
//    not a silent "1". Query strings, params and headers are text on the wire
//    and keep Fastify's coercion.
//  * Unknown properties are rejected (`additionalProperties: false` means
//    "reject"), not silently removed, so a misspelt field is reported.
//
// Shared schemas added with app.addSchema() keep working: both compilers are
// built from Fastify's external schemas through its own compiler pool.
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

const pool = AjvCompiler();

// validateSchema: false: each Ajv instance would otherwise compile the JSON
// Schema meta-schema at start-up (~30 ms apiece, measured); route schemas are
// still compiled in strict mode, which rejects unknown keywords.
const common = { useDefaults: true, removeAdditional: false, allErrors: false, validateSchema: false } as const;

export const validationOptions: Pick<FastifyServerOptions, 'schemaController'> = {
  schemaController: {
    compilersFactory: {
      buildValidator(externalSchemas, ajvServerOptions) {
        const plugins = ajvServerOptions?.plugins ?? [];
        const body = pool(
          externalSchemas as never,
          { customOptions: { ...common, coerceTypes: false }, plugins } as never,
        );
        const text = pool(
          externalSchemas as never,
          { customOptions: { ...common, coerceTypes: 'array' }, plugins } as never,
        );
        return (route) => (route.httpPart === 'body' ? body(route as never) : text(route as never));
      },
    },
  },
};
