/** The console operations: the service, its contract, the queue adapter and config sync. */
export { createConsoleService, type ConsoleDeps, type FullConsoleService } from './service';
export { consoleQueues, type ConsoleQueues, type InspectableQueue, type ScannedJob } from './queues';
export {
  applyStoredConfig,
  startConfigSync,
  reloadStoredConfig,
  configChannel,
  appliedVersion,
  type ConfigSync,
} from './config-sync';
export { CONFLICT_WINDOW_MS } from './states';
export { csvCell, auditToCsv, AUDIT_CSV_COLUMNS } from './csv';
