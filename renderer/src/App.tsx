/**
 * The window's shell. The key, log, usage and settings views arrive with the GateApi contract
 * (issues 4 and 5); until then the window says what the gate is and how to run it headless.
 */
export function App() {
  return (
    <main className="app">
      <h1>Ollama Gate</h1>
      <p>An API-key gate in front of your local Ollama.</p>
      <p>
        Run it headless with <code>ollama-gate serve</code> and manage keys with <code>ollama-gate keys</code>.
      </p>
    </main>
  );
}
