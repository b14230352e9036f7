// The event and result types the reporters render, from the provisioner (types only: no runtime
// import, so the reporters load without it).
export type { ProvisionEvent, ProvisionPhase as Phase, WorkerBinary } from '@rbee/worker-provisioner';
