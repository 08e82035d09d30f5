// The dashboard's pages: one script, loaded by the page shell the handler serves. It
// renders the page the URL names, from JSON the same handler answers.
import { render } from 'preact';
import { App } from './App.js';

const root = document.getElementById('app');
if (root) {
  const base = root.dataset.base ?? '';
  root.textContent = '';
  render(<App base={base} />, root);
}
