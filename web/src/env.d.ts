/** Set by web/vite.config.ts from the committed openapi.json (the hold body's maxItems). */
declare const __MOS_MAX_SEATS_PER_BUYER__: number;
