// The committed AsyncAPI document is current with the contracts and valid by the reference parser
// (the AsyncAPI 3.0 JSON Schema plus the spec's semantic rules), and says what subscribers rely on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument, asyncApiYaml } from './asyncapi.ts';
import { jsonSchemaFiles } from './json-schema.ts';

const file = join(import.meta.dirname, 'asyncapi.yaml');

describe('AsyncAPI document of the clean topics', () => {
  it('is up to date with the contracts (run npm run contracts:export)', () => {
    expect(readFileSync(file, 'utf8')).toBe(asyncApiYaml());
  });

  it('is valid AsyncAPI 3.0, with no error and no warning', async () => {
    const { document, diagnostics } = await new Parser().parse(readFileSync(file, 'utf8'));
    const problems = diagnostics
      .filter((d) => d.severity <= 1)
      .map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(problems).toEqual([]);
    expect(document).toBeDefined();
    expect(
      document!
        .channels()
        .all()
        .map((c) => c.address())
        .sort(),
    ).toEqual(['clean.loads', 'clean.shipments', 'clean.trailers', 'dlq.relay', 'dlq.transform']);
  });

  it('refuses a broken document, so the check above can fail', async () => {
    const broken = asyncApiDocument() as { channels: Record<string, { messages: unknown }> };
    broken.channels.clean_shipments!.messages = { shipmentEvent: { $ref: '#/components/messages/nope' } };
    const { diagnostics } = await new Parser().parse(JSON.stringify(broken));
    expect(diagnostics.some((d) => d.severity === 0)).toBe(true);
  });

  it('carries the same payload schema as the JSON Schema export, and the headers and key', () => {
    interface Message {
      payload: { schema: unknown };
      headers: { required: string[]; properties: Record<string, { const?: string }> };
      bindings: { kafka: { key: { pattern: string } } };
    }
    const doc = asyncApiDocument() as { components: { messages: Record<string, Message> } };
    const shipment = doc.components.messages.shipmentEvent!;
    const exported = JSON.parse(jsonSchemaFiles()['clean.shipments.json']!);
    const { $id: _id, $schema: _dialect, ...schema } = exported;
    expect(shipment.payload.schema).toEqual(schema);
    expect(shipment.headers.required).toEqual(['ferry-event-id', 'ferry-schema']);
    expect(shipment.headers.properties['ferry-schema']?.const).toBe('ferry.shipments.v1');
    expect(shipment.bindings.kafka.key.pattern).toBe('^[1-9][0-9]*$');
    expect(doc.components.messages.relayDeadLetter!.headers.required).toContain('ferry-error-sink');
  });
});
