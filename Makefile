# holdline: the commands the README and CI use.
.PHONY: install build start test typecheck clean

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
