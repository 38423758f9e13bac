/**
 * events/: what every state transition becomes (the envelope and its schema), how it is recorded from
 * XState's inspection (the recorder), where it goes (the EventLog port; adapters in adapters/event-log/),
 * and how a stream of envelopes becomes the tree of actors again (replay).
 */
export {
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopePath,
  MACHINE_KINDS,
  type MachineKind,
  machineOfPath,
  NODE_NAME_PATTERN,
  nodeNameProblem,
  stateValueToString,
} from "./envelope.ts";
export {
  type EventLog,
  EventLogError,
  type EventLogErrorCode,
  type FollowOptions,
  type ReadOptions,
} from "./port.ts";
export {
  type ActorLocation,
  createRecorder,
  type LocatingNode,
  type NodeActorPath,
  type PathOf,
  pathFromContext,
  pathOfNode,
  type Recorder,
  type RecorderOptions,
  type RecorderStats,
} from "./recorder.ts";
export {
  type ActorTree,
  type ActorView,
  copyTree,
  type DestinationView,
  type EventFilter,
  evolve,
  initialTree,
  matchesFilter,
  type NodeView,
  replay,
  replayAsync,
  selectEnvelopes,
  type TunnelView,
  UNKNOWN_DESTINATION,
} from "./replay.ts";
export {
  type DecodedEnvelope,
  decodeEnvelope,
  type EncodedEnvelope,
  type EnvelopeError,
  EnvelopeSchema,
  EventData,
  encodeEnvelope,
  envelopeToJson,
  isSecretKey,
  isStoredEnvelope,
  parseEnvelope,
  REDACTED,
  toEventJson,
  toHex,
} from "./schema.ts";
export {
  dataText,
  pathText,
  type TimelineOptions,
  type TreeTextOptions,
  timelineLine,
  timeText,
  treeText,
} from "./timeline.ts";
