import { describe, expect, it } from 'vitest';
import type { InstalledModel } from '../../../../electron/shared/contract.js';
import { addPatterns, modelOptions, splitPatterns, summarizeModels } from './models.js';

const model = (name: string): InstalledModel => ({ name, size: 1, family: null, parameterSize: null, quantization: null, modifiedAt: null });
const INSTALLED = ['llama3.2:latest', 'qwen2.5:7b', 'deepseek-r1:14b', 'nomic-embed-text:latest', 'llama3.1:8b', 'codellama:7b'].map(model);
const values = (options: ReturnType<typeof modelOptions>) => options.map((option) => (option.model ? option.value : `+${option.value}`));

describe('model patterns', () => {
  it('splits typed text on commas, spaces and lines', () => {
    expect(splitPatterns(' llama3*, qwen2.5:7b\nnomic-embed-text  ,,')).toEqual(['llama3*', 'qwen2.5:7b', 'nomic-embed-text']);
  });

  it('adds each pattern once, whatever its case', () => {
    expect(addPatterns(['llama3*'], ['Llama3*', 'qwen2.5:7b', 'qwen2.5:7b'])).toEqual(['llama3*', 'qwen2.5:7b']);
  });

  it('offers installed models that start with the text first, then those containing it, then the text itself', () => {
    expect(values(modelOptions(INSTALLED, [], 'llama'))).toEqual(['llama3.2:latest', 'llama3.1:8b', 'codellama:7b', '+llama']);
    expect(values(modelOptions(INSTALLED, [], 'LLAMA3.1'))).toEqual(['llama3.1:8b', '+LLAMA3.1']);
  });

  it('puts a typed * pattern first and previews what it starts with', () => {
    expect(values(modelOptions(INSTALLED, [], 'llama3*'))).toEqual(['+llama3*', 'llama3.2:latest', 'llama3.1:8b']);
  });

  it('leaves out what is chosen already, and does not offer the typed text twice', () => {
    expect(values(modelOptions(INSTALLED, ['llama3.2:latest', 'codellama:7b'], 'llama'))).toEqual(['llama3.1:8b', '+llama']);
    expect(values(modelOptions(INSTALLED, [], 'qwen2.5:7b'))).toEqual(['qwen2.5:7b']);
    expect(values(modelOptions(INSTALLED, ['qwen*'], 'qwen*'))).toEqual(['qwen2.5:7b']);
  });

  it('lists every installed model for empty text, up to a limit, and nothing to type without models', () => {
    expect(modelOptions(INSTALLED, [], '', 4)).toHaveLength(4);
    expect(values(modelOptions([], [], 'mistral'))).toEqual(['+mistral']);
    expect(modelOptions([], [], '  ')).toEqual([]);
  });

  it('sums up a list for a table cell', () => {
    expect(summarizeModels(['a', 'b', 'c', 'd', 'e'])).toEqual({ shown: ['a', 'b'], more: 3 });
    expect(summarizeModels(['a'])).toEqual({ shown: ['a'], more: 0 });
  });
});
