export { WorkerProvisioner } from './provisioner.js';
export type { WorkerProvisionerOptions, CatalogClientOptionsLike } from './provisioner.js';
export { ProvisionError } from './errors.js';
export type { ProvisionErrorCode, ProvisionErrorOptions } from './errors.js';
export { isProvisionEvent, isWorkerBinary, PROVISION_EVENT_SCHEMA, PROVISION_PHASES, WORKER_BINARY_SCHEMA } from './events.js';
export type {
  ProvisionDoneEvent,
  ProvisionErrorEvent,
  ProvisionEvent,
  ProvisionEventBase,
  ProvisionEventError,
  ProvisionLogEvent,
  ProvisionPhase,
  ProvisionPhaseEvent,
  ProvisionProgressEvent,
  ProvisionWarningEvent,
} from './events.js';
export { detectBackend, hostArch, hostPlatform } from './backend-detection.js';
export type { BackendProbe } from './backend-detection.js';
export { defaultHome } from './workers-home.js';
export type {
  ArtifactProvisioner,
  InstallFromDirectoryOptions,
  ProvisionEventListener,
  ProvisionOptions,
  RemoveOptions,
  VerifyReport,
  WorkerBinary,
  WorkerPlatform,
  WorkerStatus,
  WorkerType,
} from './types.js';
export type { CatalogLike, CatalogVariantLike, CatalogWorkerLike, ResolvedLike, SandboxMode, Stages } from './stages.js';
