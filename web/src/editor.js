// The SQL editor's CodeMirror parts, bundled apart from the rest (web/bundle.mjs writes
// editor.js beside app.js): more than half of the script's bytes, which only the SQL page
// uses. It loads them when it first opens (loadEditor in sql.js), so the fleet and cluster
// pages do not parse them. Served from the binary like app.js: the page still works offline.
import { EditorView, basicSetup } from 'codemirror';
import { keymap } from '@codemirror/view';
import { Compartment } from '@codemirror/state';
import { sql, PostgreSQL } from '@codemirror/lang-sql';
import { oneDark } from '@codemirror/theme-one-dark';

window.fleetlogEditor = { EditorView, basicSetup, keymap, Compartment, sql, PostgreSQL, oneDark };
