/** The console operations: the service and config sync (their contracts are in ../ports). */
export { createConsoleService, type ConsoleDeps, type FullConsoleService } from './service';
export { applyStoredConfig, startConfigSync, reloadStoredConfig, appliedVersion, type ConfigSync } from './config-sync';
export { CONFLICT_WINDOW_MS } from './states';
export { csvCell, auditToCsv, AUDIT_CSV_COLUMNS } from './csv';
