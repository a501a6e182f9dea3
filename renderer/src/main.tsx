import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { resolveGate } from './gate.js';
import './app.css';

const { gate, connection } = resolveGate(window);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App gate={gate} connection={connection} />
  </StrictMode>,
);
