// Reference data compiled into the module: facility code -> region and IANA time zone.
// Source: deploy/local/sql/schema.sql (the facilities seed). relay/contracts/facilities.ts holds the
// same table for the TypeScript side; a unit test checks the two agree with the SQL seed.

export const FACILITY_CODES: string[] = [
  'ATL1',
  'CHI2',
  'DAL1',
  'DEN1',
  'LAX3',
  'SEA1',
  'NYC4',
  'MIA1',
  'PHX1',
  'TOR1',
  'MEX1',
  'ANC1',
];

export const FACILITY_REGIONS: string[] = [
  'US-SOUTHEAST',
  'US-MIDWEST',
  'US-SOUTH',
  'US-MOUNTAIN',
  'US-WEST',
  'US-NORTHWEST',
  'US-NORTHEAST',
  'US-SOUTHEAST',
  'US-SOUTHWEST',
  'CA-ONTARIO',
  'MX-NORTE',
  'US-ALASKA',
];

export const FACILITY_TIME_ZONES: string[] = [
  'America/New_York',
  'America/Chicago',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Los_Angeles',
  'America/New_York',
  'America/New_York',
  'America/Phoenix',
  'America/Toronto',
  'America/Monterrey',
  'America/Anchorage',
];
