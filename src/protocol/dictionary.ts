/** Dictionary overview panel protocol (type-only). */
import type { DictionaryModel } from './viewModels';
import type { ErrorEvent, OpenFeatureEvent, PanelArgs, ReadyEvent } from './panels';

export const DICTIONARY_VIEW_TYPE = 'saeWorkbench.dictionary';

export type HostToDictionaryEvents = ErrorEvent & { load: { model: DictionaryModel; args: PanelArgs } };
export type DictionaryToHostEvents = ReadyEvent & OpenFeatureEvent & { openBrowser: Record<string, never>; openDiagnostics: Record<string, never>; openAtomMap: Record<string, never> };
export type DictionaryRequests = Record<never, [unknown, unknown]>;
