import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'acorn';
import { CLIENT_PATH, WIDGET_PATH } from './support/holdline-vm.js';

describe('holdline.js and widget.js: old browsers', () => {
  for (const [name, path] of [['holdline.js', CLIENT_PATH], ['widget.js', WIDGET_PATH]] as const) {
    it(`${name} parses as ECMAScript 5`, () => {
      expect(() => parse(readFileSync(path, 'utf8'), { ecmaVersion: 5 })).to.not.throw();
    });
  }
});
