// Public entry of wasm/ for runtime-free callers (the relay's config loader and redactor, which the
// edge relay bundles): the Kafka connection settings as data, without the node:* parts that
// wasm/index.ts carries (the host, the runner, reading PEM files). Same exports as there.
export {
  connectionProblems,
  connectionSecrets,
  type KafkaConnection,
  KafkaConnectionError,
  type KafkaSasl,
  type KafkaTls,
  SASL_MECHANISMS,
  type SaslMechanism,
} from './kafka/settings.ts';
