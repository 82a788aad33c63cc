// Reference data, the same table the Wasm transforms compile in (transforms/supply-chain/
// facilities.ts), from the facilities seed in deploy/local/sql/schema.sql.

export interface Facility {
  readonly code: string;
  readonly region: string;
  readonly timeZone: string;
}

export const FACILITIES: readonly Facility[] = [
  { code: 'ATL1', region: 'US-SOUTHEAST', timeZone: 'America/New_York' },
  { code: 'CHI2', region: 'US-MIDWEST', timeZone: 'America/Chicago' },
  { code: 'DAL1', region: 'US-SOUTH', timeZone: 'America/Chicago' },
  { code: 'DEN1', region: 'US-MOUNTAIN', timeZone: 'America/Denver' },
  { code: 'LAX3', region: 'US-WEST', timeZone: 'America/Los_Angeles' },
  { code: 'SEA1', region: 'US-NORTHWEST', timeZone: 'America/Los_Angeles' },
  { code: 'NYC4', region: 'US-NORTHEAST', timeZone: 'America/New_York' },
  { code: 'MIA1', region: 'US-SOUTHEAST', timeZone: 'America/New_York' },
  { code: 'PHX1', region: 'US-SOUTHWEST', timeZone: 'America/Phoenix' },
  { code: 'TOR1', region: 'CA-ONTARIO', timeZone: 'America/Toronto' },
  { code: 'MEX1', region: 'MX-NORTE', timeZone: 'America/Monterrey' },
  { code: 'ANC1', region: 'US-ALASKA', timeZone: 'America/Anchorage' },
];

const BY_CODE: ReadonlyMap<string, Facility> = new Map(FACILITIES.map((f) => [f.code, f]));

export function facilityByCode(code: string): Facility | undefined {
  return BY_CODE.get(code);
}
