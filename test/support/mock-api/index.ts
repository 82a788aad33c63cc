export { createMockApiClient, type MockApiClient } from './client.ts';
export { decide, type FaultSpec, type LatencySpec, sampleLatency } from './faults.ts';
export { type EndpointReport, Ledger, type LedgerOptions, type RecordedRequest } from './ledger.ts';
export { type EndpointConfig, type MockApi, type MockApiOptions, startMockApi } from './server.ts';
