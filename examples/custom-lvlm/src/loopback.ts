// A stand-in LVLM for trying the example without a model: the loopback OpenAI-compatible server of
// `@emofeedback/reward/testing`, on 127.0.0.1. It rates each image from its pixels (valence from
// brightness, arousal from saturation) and, for critique requests, appends one descriptor to the
// user's prompt. Real sockets and the real protocol, no model.
import {
  type LoopbackReply,
  type LoopbackRequest,
  type LoopbackServer,
  startLoopbackLvlmServer,
} from '@emofeedback/reward/testing';

/** The model name the loopback server answers for (it accepts any). */
export const LOOPBACK_MODEL = 'loopback-lvlm';

/** Descriptors the stand-in critic appends, by the direction the target lies in. */
const DESCRIPTORS = {
  pleasant: 'in bright daylight, warm colours',
  unpleasant: 'at night, cool blue tones',
} as const;

function critique(request: LoopbackRequest): LoopbackReply | undefined {
  if (request.responseFormat?.json_schema?.name !== 'prompt_critique') return undefined;
  const text = request.texts.join('\n');
  const user = /User prompt: (".*")/.exec(text);
  const target = /Target emotion: valence ([-+]?[\d.]+), arousal ([-+]?[\d.]+)/.exec(text);
  if (!user || !target) return { status: 400, body: { error: { message: 'not a critique request' } } };
  const prompt = JSON.parse(user[1] as string) as string;
  const pleasant = Number(target[1]) >= 0;
  const phrase = pleasant ? DESCRIPTORS.pleasant : DESCRIPTORS.unpleasant;
  return {
    json: {
      analysis: `The target is ${pleasant ? 'pleasant' : 'unpleasant'}; the lighting should say so.`,
      suggestions: [`add "${phrase}"`],
      refinedPrompt: `${prompt}, ${phrase}`,
      done: false,
    },
  };
}

/** Starts the stand-in server; `close()` it when done. */
export function startLoopback(): Promise<LoopbackServer> {
  return startLoopbackLvlmServer({ reply: critique });
}
