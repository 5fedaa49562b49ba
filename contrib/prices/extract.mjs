// Writes the price data of the npm package @pydantic/genai-prices (MIT, github.com/pydantic/genai-prices)
// as the JSON the gateway embeds (gateway/pricing/genai-prices.json): the providers and their models' ids,
// match rules and prices, without the descriptions and usage extractors the gateway does not use.
// Usage: node extract.mjs <unpacked package dir> > gateway/pricing/genai-prices.json
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node extract.mjs <unpacked @pydantic/genai-prices package dir>");
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
if (pkg.license !== "MIT") {
  console.error(`@pydantic/genai-prices ${pkg.version} is licensed ${pkg.license}, not MIT: check before embedding it`);
  process.exit(1);
}
const m = await import(pathToFileURL(path.join(dir, "dist", "index.js")).href);
const data = await m.waitForUpdate();
const keep = (o, keys) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
const out = {
  source: `npm:@pydantic/genai-prices@${pkg.version}`,
  license: "MIT, Copyright (c) Pydantic Services Inc. 2025 to present (see gateway/pricing/LICENSE-genai-prices)",
  providers: data.map((p) => ({
    ...keep(p, ["id", "name", "model_match", "provider_match", "fallback_model_providers"]),
    models: p.models.map((mo) => keep(mo, ["id", "name", "match", "prices"])),
  })),
};
process.stdout.write(JSON.stringify(out, null, 0) + "\n");
