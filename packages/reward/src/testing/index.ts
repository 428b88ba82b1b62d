/**
 * Test helpers for code that calls vision-language models: a loopback server speaking the
 * OpenAI chat-completions protocol with scripted faults. Node only (uses `node:http`).
 * @packageDocumentation
 */
export {
  expectedLoopbackScore,
  LOOPBACK_FAULT_FAILURE,
  LOOPBACK_FAULTS,
  type LoopbackFault,
  type LoopbackFaultPlan,
  type LoopbackImage,
  type LoopbackRecord,
  type LoopbackReply,
  type LoopbackReplyFunction,
  type LoopbackRequest,
  type LoopbackServer,
  type LoopbackServerOptions,
  type LoopbackStats,
  loopbackScore,
  startLoopbackLvlmServer,
} from './loopback-server.js';
