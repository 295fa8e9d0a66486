import { describe, expect, it } from 'vitest';
import { Box } from '../../env/index.js';
import { checkParallelEnv, type CheckableEnv } from '../../community/check.js';
import { listCommunities, type Community } from '../../community/community.js';
import { CommunityEnv, makeCommunityEnv } from '../../community/env.js';
import { apartments } from './fixtures.js';

const tightCommunity = (feederKw = 5): Community => apartments(feederKw);

/** Delegates everything to a real env; each broken env overrides the one thing it breaks. */
class Wrapper implements CheckableEnv {
  constructor(readonly inner: CommunityEnv) {}
  get community(): { feederKw: number } {
    return this.inner.community;
  }
  get possibleAgents(): readonly string[] {
    return this.inner.possibleAgents;
  }
  get agents(): readonly string[] {
    return this.inner.agents;
  }
  observationSpace(id: string): unknown {
    return this.inner.observationSpace(id);
  }
  actionSpace(id: string): unknown {
    return this.inner.actionSpace(id);
  }
  reset(opts?: { seed?: number }): ReturnType<CheckableEnv['reset']> {
    return this.inner.reset(opts);
  }
  step(actions: Record<string, ArrayLike<number>>): ReturnType<CheckableEnv['step']> {
    return this.inner.step(actions);
  }
  state(): Float32Array {
    return this.inner.state();
  }
  trajectory(): ReturnType<CheckableEnv['trajectory']> {
    return this.inner.trajectory();
  }
}

describe('checkParallelEnv passes on the real env', () => {
  for (const id of listCommunities()) {
    it(`passes on data/communities/${id}.json (1 day, and its replay)`, () => {
      expect(checkParallelEnv(makeCommunityEnv(id), { days: 1, seed: 7 })).toEqual({ days: 1, steps: 96 });
    });
  }

  it('passes on three paper apartments behind a tight 5 kW feeder (2 days)', () => {
    expect(checkParallelEnv(makeCommunityEnv(tightCommunity()), { days: 2, seed: 3 })).toEqual({ days: 2, steps: 192 });
  });

  it('found at least one community file', () => {
    expect(listCommunities()).toContain('citylearn-9');
  });
});

describe('checkParallelEnv fails on broken envs, naming the problem', () => {
  const small = () => new CommunityEnv(tightCommunity());

  it('a space that is a new object at every call', () => {
    class NewSpaces extends Wrapper {
      override observationSpace(id: string): unknown {
        const b = this.inner.observationSpace(id);
        return new Box(b.low, b.high);
      }
    }
    expect(() => checkParallelEnv(new NewSpaces(small()), { days: 1 })).toThrow(/observationSpace\("apt-1"\) returned a new object/);
  });

  it('an observation that leaves its Box', () => {
    class Outside extends Wrapper {
      override step(actions: Record<string, ArrayLike<number>>): ReturnType<CheckableEnv['step']> {
        const r = this.inner.step(actions);
        const box = this.inner.observationSpace('apt-2');
        if (this.inner.core.slot === 40) r.observations['apt-2'][0] = box.high[0] + 1;
        return r;
      }
    }
    expect(() => checkParallelEnv(new Outside(small()), { days: 1 })).toThrow(/slot 40: observations\["apt-2"\]\[0\] = .* is outside/);
  });

  it('agents that are not emptied at the end of the day', () => {
    class KeepsAgents extends Wrapper {
      override get agents(): readonly string[] {
        return this.inner.possibleAgents;
      }
    }
    expect(() => checkParallelEnv(new KeepsAgents(small()), { days: 1 })).toThrow(/slot 95: agents are \[apt-1, apt-2, apt-3\] after step\(\); expected .*: \[\]/);
  });

  it('rewards that do not sum to −J', () => {
    class OffByACent extends Wrapper {
      override step(actions: Record<string, ArrayLike<number>>): ReturnType<CheckableEnv['step']> {
        const r = this.inner.step(actions);
        if (this.inner.core.slot === 50) r.rewards['apt-3'] += 0.01;
        return r;
      }
    }
    const err = catchError(() => checkParallelEnv(new OffByACent(small()), { days: 1 }));
    expect(err).toMatch(/day 0: "apt-3"'s return .* is not −its score/);
    expect(err).toMatch(/day 0: Σ rewards \+ Σ operatorReward = .*, not −summary\.score/);
    expect(err).not.toMatch(/"apt-1"'s return/);
  });

  it('a feeder that is not enforced (the caps computed for a 1,000,000 kW feeder, the 5 kW one reported)', () => {
    const tight = tightCommunity();
    class NoCaps extends Wrapper {
      override get community(): { feederKw: number } {
        return tight;
      }
    }
    const env = new NoCaps(new CommunityEnv({ ...tight, feederKw: 1e6 }));
    expect(() => checkParallelEnv(env, { days: 2, seed: 3 })).toThrow(/slot \d+: the feeder carries \d+\.\d+ kW > its 5 kW, and no info reports feederExcessKw/);
  });

  it('observations keyed by the wrong ids', () => {
    const rekey = <T,>(d: Record<string, T>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k.toUpperCase(), v]));
    class WrongIds extends Wrapper {
      override reset(opts?: { seed?: number }): ReturnType<CheckableEnv['reset']> {
        const r = this.inner.reset(opts);
        return { ...r, observations: rekey(r.observations) };
      }
      override step(actions: Record<string, ArrayLike<number>>): ReturnType<CheckableEnv['step']> {
        const r = this.inner.step(actions);
        return { ...r, observations: rekey(r.observations) };
      }
    }
    const err = catchError(() => checkParallelEnv(new WrongIds(small()), { days: 1 }));
    expect(err).toMatch(/reset\(\)'s observations must be keyed by exactly the live agents; missing \[apt-1, apt-2, apt-3\]; not live \[APT-1, APT-2, APT-3\]/);
    expect(err).toMatch(/step\(\)'s observations must be keyed by exactly the live agents/);
    expect(err).not.toMatch(/infos must be keyed/);
  });
});

describe('checkParallelEnv on an env that throws mid-day', () => {
  it('lists the throw with the problems found before it', () => {
    class Throws extends Wrapper {
      override step(actions: Record<string, ArrayLike<number>>): ReturnType<CheckableEnv['step']> {
        if (this.inner.core.slot === 30) throw new Error('boom at 30');
        const r = this.inner.step(actions);
        if (this.inner.core.slot === 20) r.rewards['apt-1'] = NaN;
        return r;
      }
    }
    const err = catchError(() => checkParallelEnv(new Throws(new CommunityEnv(tightCommunity())), { days: 1 }));
    expect(err).toMatch(/day 0 slot 19: rewards\["apt-1"\] = NaN is not finite/);
    expect(err).toMatch(/day 0: the env threw: boom at 30/);
  });
});

function catchError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}
