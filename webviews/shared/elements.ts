/**
 * The VS Code-styled controls (@vscode-elements/elements, the maintained successor of the webview UI
 * toolkit): only the components the panels use are bundled. Icons go in as codicon spans in the light
 * DOM (no `icon` attribute: that needs a <link id="vscode-codicon-stylesheet">, which the self-contained
 * report does not have).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeTextarea } from '@vscode-elements/elements/dist/vscode-textarea/vscode-textarea.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';

export function textField(cls: string, placeholder: string, label: string, value = ''): VscodeTextfield {
  const f = document.createElement('vscode-textfield');
  f.className = cls;
  f.placeholder = placeholder;
  f.value = value;
  f.setAttribute('aria-label', label);
  return f;
}

export function textArea(cls: string, placeholder: string, label: string, value = '', rows = 3): VscodeTextarea {
  const t = document.createElement('vscode-textarea');
  t.className = cls;
  t.placeholder = placeholder;
  t.value = value;
  t.rows = rows;
  t.setAttribute('aria-label', label);
  return t;
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void): VscodeCheckbox {
  const c = document.createElement('vscode-checkbox');
  c.label = label;
  c.checked = checked;
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}
