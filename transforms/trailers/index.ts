// trailers: cdc.public.trailers (Debezium) -> clean.trailers, invalid records -> dlq.transform.
// The rules (columns of deploy/local/sql/schema.sql in check order, the status life cycle) are
// declared once, in rules.json: rules.ts is generated from it, and relay/contracts/trailers.ts builds
// the valibot contract from it (test/unit/transforms-corpus.test.ts checks both on every record).
import { runEntityTransform } from '../supply-chain/run';
import { spec } from './rules';

runEntityTransform(spec);
