# holdline: the commands the README and CI use.
.PHONY: install build start test typecheck clean bench bench-quick chaos

install:
	npm ci

build:
	npm run build

start:
	npm start

typecheck:
	npx tsc -p tsconfig.json --noEmit

# Type-checks, then runs every mocha test (unit, HTTP, store contract on memory and Redis, child processes).
test:
	npm test

clean:
	rm -rf dist

# Full bench: every scenario against holdline and the raw node:http baseline (~10 min);
# writes bench/results/<date>.md. See bench/README.md.
bench:
	npm run --silent build
	node dist/bench/run.js

# Small sizes for development (~1–2 min); writes bench/results/<date>-quick.md.
bench-quick:
	npm run --silent build
	node dist/bench/run.js --quick

# Exactly-once through faults (~4 min): three servers on one Redis, 500 viewers, 20 publishes/s,
# a fault every few seconds for two minutes; writes bench/results/<date>-chaos.md, exits 1 on
# any loss, duplicate or silent skip. See docs/SCALING.md.
chaos:
	npm run --silent build
	node dist/bench/chaos.js
