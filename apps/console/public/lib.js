// The one place the page takes preact (with hooks) and htm from: the standalone bundle of the htm package.
export { html, render, useState, useEffect, useRef } from './vendor/preact-htm.mjs';
