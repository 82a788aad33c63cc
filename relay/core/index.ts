// The runtime-free core of the relay. Entry points and adapters import from here.
export * from './classify.ts';
export * from './clock.ts';
export type * from './contracts.ts';
export * from './dlq-headers.ts';
export * from './errors.ts';
export * from './filter.ts';
export * from './offset-tracker.ts';
export type * from './options.ts';
export * from './policy.ts';
export * from './push-source.ts';
export * from './record.ts';
export * from './relay.ts';
export * from './replay.ts';
export * from './request-builder.ts';
export * from './url-template.ts';
export * from './webhook-signing.ts';
