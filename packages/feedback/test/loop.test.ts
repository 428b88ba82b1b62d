import { InvalidArgumentError, InvalidEmotionError } from '@emofeedback/core';
import { describe, expect, it } from 'vitest';
import {
  bestOfN,
  type Critique,
  type DescriptorEffect,
  effectAt,
  type FeedbackEvent,
  LocalPromptCritic,
  loopSeeds,
  type PromptCritic,
  runFeedbackLoop,
} from '../src/index.js';
import { TOY_LEXICON, ToyEvaluator, ToyGenerator } from './toy-world.js';

const fixedCritic = (prompts: string[], extra: Partial<Critique> = {}): PromptCritic & { calls: number } => ({
  id: 'fixed',
  calls: 0,
  async critique(input) {
    this.calls++;
    return {
      analysis: 'fixed',
      suggestions: [],
      refinedPrompt: prompts[input.round] ?? input.currentPrompt,
      ...extra,
    };
  },
});

const base = {
  evaluator: new ToyEvaluator(),
  prompt: 'a cat on a meadow',
  target: { valence: 2.5, arousal: 1 },
};

describe('runFeedbackLoop', () => {
  it('runs rounds × images with the loop seeds and records a full trace', async () => {
    const generator = new ToyGenerator();
    const events: FeedbackEvent[] = [];
    const trace = await runFeedbackLoop({
      ...base,
      generator,
      critic: fixedCritic(['a cat on a meadow, sunny', 'a cat on a meadow, sunny, vivid colours']),
      seed: 5,
      onEvent: (e) => events.push(e),
    });
    expect(trace.rounds).toHaveLength(3);
    expect(trace.rounds.map((r) => r.seeds)).toEqual(loopSeeds(5, 3, 8));
    expect(trace.rounds.map((r) => r.prompt)).toEqual([
      'a cat on a meadow',
      'a cat on a meadow, sunny',
      'a cat on a meadow, sunny, vivid colours',
    ]);
    for (const r of trace.rounds) expect(r.candidates).toHaveLength(8);
    expect(trace.calls).toEqual({ generate: 3, evaluate: 3, critique: 2 });
    expect(trace.rounds[2]!.critique).toBeUndefined();
    expect(trace.stopReason).toBe('max_rounds');
    expect(events.map((e) => e.type)).toEqual([
      'round-start',
      'round-scored',
      'critique',
      'round-start',
      'round-scored',
      'critique',
      'round-start',
      'round-scored',
      'done',
    ]);
  });

  it('returns the best image over all rounds, not the last round', async () => {
    // later rounds are pushed away from the target
    const trace = await runFeedbackLoop({
      ...base,
      generator: new ToyGenerator(),
      critic: fixedCritic(['a cat on a meadow, at night, foggy', 'a cat on a meadow, at night, stormy']),
    });
    const all = trace.rounds.flatMap((r) => r.candidates);
    const min = Math.min(...all.map((c) => c.distance));
    expect(trace.best!.distance).toBe(min);
    expect(trace.best!.round).toBe(0);
    expect(trace.rounds[2]!.best!.distance).toBeGreaterThan(trace.best!.distance);
  });

  it('same seed → same trace; another seed → other seeds', async () => {
    const run = (seed: number) =>
      runFeedbackLoop({
        ...base,
        generator: new ToyGenerator(),
        critic: new LocalPromptCritic({ lexicon: TOY_LEXICON }),
        seed,
      });
    const [a, b, c] = await Promise.all([run(1), run(1), run(2)]);
    expect(a.rounds.map((r) => [r.prompt, r.candidates.map((x) => x.distance)])).toEqual(
      b.rounds.map((r) => [r.prompt, r.candidates.map((x) => x.distance)]),
    );
    expect(c.rounds[0]!.seeds).not.toEqual(a.rounds[0]!.seeds);
  });

  it('stops on epsilon, patience, the call budget, the time budget, the critic and an abort', async () => {
    const generator = new ToyGenerator();
    const critic = fixedCritic([]);
    expect((await runFeedbackLoop({ ...base, generator, critic, epsilon: 10 })).stopReason).toBe('epsilon');
    const patient = await runFeedbackLoop({ ...base, generator, critic, patience: 1, rounds: 5 });
    expect(patient.stopReason).toBe('patience');
    expect(patient.rounds.length).toBeLessThan(5);
    const budget = await runFeedbackLoop({ ...base, generator, critic, maxCalls: 5, rounds: 5 });
    expect(budget.stopReason).toBe('call_budget');
    expect(budget.calls.generate + budget.calls.evaluate + budget.calls.critique).toBeLessThanOrEqual(5);
    expect((await runFeedbackLoop({ ...base, generator, critic, timeBudgetMs: 0 })).stopReason).toBe(
      'time_budget',
    );
    const done = await runFeedbackLoop({ ...base, generator, critic: fixedCritic([], { done: true }) });
    expect(done.stopReason).toBe('critic_done');
    expect(done.rounds).toHaveLength(1);
    const controller = new AbortController();
    controller.abort();
    expect(
      (await runFeedbackLoop({ ...base, generator, critic, signal: controller.signal })).stopReason,
    ).toBe('aborted');
  });

  it('records a failing critic and keeps going with the same prompt', async () => {
    const critic: PromptCritic = {
      id: 'broken',
      critique: async () => {
        throw new Error('critic unavailable');
      },
    };
    const trace = await runFeedbackLoop({ ...base, generator: new ToyGenerator(), critic });
    expect(trace.rounds).toHaveLength(3);
    expect(trace.rounds[0]!.critiqueError).toBe('critic unavailable');
    expect(new Set(trace.rounds.map((r) => r.prompt)).size).toBe(1);
  });

  it('never picks a failed evaluation as best and counts failures', async () => {
    const evaluator = new ToyEvaluator();
    evaluator.failIndices = new Set([0, 1, 2, 3, 4, 5, 6]);
    const trace = await runFeedbackLoop({
      ...base,
      evaluator,
      generator: new ToyGenerator(),
      critic: fixedCritic([]),
    });
    expect(trace.failedEvaluations).toBe(21);
    expect(trace.best!.index).toBe(7);
    expect(trace.best!.evaluation.ok).toBe(true);
  });

  it('rejects bad options with typed errors before any work', async () => {
    const generator = new ToyGenerator();
    const critic = fixedCritic([]);
    await expect(runFeedbackLoop({ ...base, generator, critic, prompt: '  ' })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(runFeedbackLoop({ ...base, generator, critic, rounds: 0 })).rejects.toThrow(/rounds/);
    await expect(runFeedbackLoop({ ...base, generator, critic, imagesPerRound: 2.5 })).rejects.toThrow(
      /imagesPerRound/,
    );
    await expect(
      runFeedbackLoop({ ...base, generator, critic, target: { valence: 4, arousal: 0 } }),
    ).rejects.toThrow(InvalidEmotionError);
    expect(generator.calls).toBe(0);
  });
});

describe('LocalPromptCritic', () => {
  it('keeps the user prompt, adds descriptors toward the target and beats best-of-N in the toy world', async () => {
    const targets = [
      { valence: 2.5, arousal: 1 },
      { valence: -2.5, arousal: -2 },
      { valence: -2, arousal: 2.5 },
      { valence: 1.5, arousal: -2 },
    ];
    for (const target of targets) {
      for (const prompt of ['a cat on a meadow', 'a spider in a forest']) {
        const trace = await runFeedbackLoop({
          ...base,
          prompt,
          target,
          generator: new ToyGenerator(),
          critic: new LocalPromptCritic({ lexicon: TOY_LEXICON, doneDistance: 0 }),
          seed: 3,
        });
        for (const r of trace.rounds) expect(r.prompt.startsWith(prompt)).toBe(true);
        expect(trace.best!.distance).toBeLessThanOrEqual(trace.rounds[0]!.best!.distance);
        const baseline = await bestOfN({ ...base, prompt, target, generator: new ToyGenerator(), seed: 3 });
        expect(trace.best!.distance).toBeLessThan(baseline!.distance);
      }
    }
  });

  it('explains the miss and proposes measured edits', async () => {
    const critic = new LocalPromptCritic({ lexicon: TOY_LEXICON });
    const generator = new ToyGenerator();
    const trace = await runFeedbackLoop({
      ...base,
      generator,
      critic,
      rounds: 2,
      target: { valence: 2.5, arousal: 1.5 },
    });
    const c = trace.rounds[0]!.critique!;
    expect(c.analysis).toMatch(/not pleasant enough/);
    expect(c.suggestions.some((s) => s.includes('sunny'))).toBe(true);
    expect(c.refinedPrompt).toMatch(/^a cat on a meadow, /);
  });

  it('rejects an empty or broken lexicon', () => {
    expect(() => new LocalPromptCritic({ lexicon: [] })).toThrow(InvalidArgumentError);
    expect(
      () => new LocalPromptCritic({ lexicon: [{ phrase: 'x', valence: Number.NaN, arousal: 0 }] }),
    ).toThrow(/finite/);
  });

  it('steers the emotion the generator is conditioned on when readings fall short', async () => {
    // A generator whose images read at half the emotion it is conditioned on.
    const damped = {
      id: 'damped',
      async generate(request: {
        emotions: readonly { valence: number; arousal: number }[];
        seeds: readonly number[];
      }) {
        return request.emotions.map((e, i) => {
          const data = new Float32Array(4 * 4 * 3);
          const jitter = ((request.seeds[i] as number) % 7) * 0.01;
          for (let k = 0; k < 16; k++) {
            data[k * 3] = (0.5 * e.valence + jitter + 6) / 12;
            data[k * 3 + 1] = (0.5 * e.arousal + 6) / 12;
          }
          return { width: 4, height: 4, data };
        });
      },
    };
    const target = { valence: 1.2, arousal: -1.2 };
    const steered = await runFeedbackLoop({
      ...base,
      target,
      generator: damped,
      critic: new LocalPromptCritic({ lexicon: TOY_LEXICON.slice(0, 1), doneDistance: 0 }),
    });
    const fixed = await runFeedbackLoop({
      ...base,
      target,
      generator: damped,
      critic: new LocalPromptCritic({ lexicon: TOY_LEXICON.slice(0, 1), doneDistance: 0, steeringGain: 0 }),
    });
    expect(steered.rounds[1]!.conditioning.valence).toBeGreaterThan(target.valence);
    expect(steered.rounds[1]!.conditioning.arousal).toBeLessThan(target.arousal);
    expect(fixed.rounds[1]!.conditioning).toEqual(target);
    expect(steered.best!.distance).toBeLessThan(0.2);
    expect(steered.best!.distance).toBeLessThan(fixed.best!.distance);
    expect(() => new LocalPromptCritic({ lexicon: TOY_LEXICON, steeringGain: -1 })).toThrow(/steeringGain/);
  });

  it('uses each descriptor effect at the round conditioning when the lexicon has one', async () => {
    // "warm" brightens a neutral image but darkens one the emotion input already made pleasant.
    const warm: DescriptorEffect = {
      phrase: 'warm colours',
      valence: 0.2,
      arousal: 0,
      at: [
        { conditioning: { valence: 0, arousal: 0 }, valence: 1, arousal: 0 },
        { conditioning: { valence: 3, arousal: 0 }, valence: -0.6, arousal: 0 },
      ],
    };
    const dull: DescriptorEffect = { phrase: 'dull light', valence: -0.4, arousal: 0 };
    expect(effectAt(warm, { valence: 0, arousal: 0 })).toEqual({ valence: 1, arousal: 0 });
    expect(effectAt(warm, { valence: 3, arousal: 0 }).valence).toBeCloseTo(-0.6, 6);
    const middle = effectAt(warm, { valence: 1.5, arousal: 0 }).valence;
    expect(middle).toBeCloseTo(0.2, 6); // equidistant: the mean of the two measurements
    expect(effectAt(dull, { valence: 3, arousal: 3 })).toEqual({ valence: -0.4, arousal: 0 });

    const options = { steeringGain: 0, maxDescriptors: 1 };
    const conditional = new LocalPromptCritic({ lexicon: [warm, dull], ...options });
    const averaged = new LocalPromptCritic({ lexicon: [{ ...warm, at: undefined }, dull], ...options });
    const round = (
      critic: LocalPromptCritic,
      conditioning: { valence: number; arousal: number },
      reading: number,
    ) =>
      critic.critique({
        target: { valence: 2, arousal: 0 },
        userPrompt: 'a cat',
        currentPrompt: 'a cat',
        currentConditioning: conditioning,
        round: 0,
        history: [],
        candidates: [
          {
            round: 0,
            index: 0,
            prompt: 'a cat',
            seed: 1,
            image: { width: 1, height: 1, data: new Float32Array(3) },
            evaluation: { ok: true, valence: reading, arousal: 0 },
            distance: Math.abs(2 - reading),
          },
        ],
      });
    // Below the target at neutral conditioning: "warm" helps there.
    expect((await round(conditional, { valence: 0, arousal: 0 }, 1)).refinedPrompt).toBe(
      'a cat, warm colours',
    );
    // Above the target at pleasant conditioning: "warm" lowers the reading there by just enough.
    const high = await round(conditional, { valence: 3, arousal: 0 }, 2.6);
    expect(high.refinedPrompt).toBe('a cat, warm colours');
    expect(high.suggestions[0]).toContain('valence -0.60');
    // With only the average (+0.2), "warm" would push a high reading higher: "dull" instead.
    const flat = await round(averaged, { valence: 3, arousal: 0 }, 2.6);
    expect(flat.refinedPrompt).toBe('a cat, dull light');
    expect(
      () =>
        new LocalPromptCritic({
          lexicon: [
            { ...warm, at: [{ conditioning: { valence: 0, arousal: 0 }, valence: Number.NaN, arousal: 0 }] },
          ],
        }),
    ).toThrow(/finite/);
  });
});
