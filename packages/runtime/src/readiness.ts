export type LifecycleState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface CheckResult {
  ok: boolean;
  detail?: string;
}
export type ReadinessCheck = () => CheckResult;

export interface ReadinessReport {
  ready: boolean;
  state: LifecycleState;
  checks: Record<string, CheckResult>;
}

/**
 * Ready means "send me work": only while running and every check passes. A load balancer or supervisor
 * that sees 503 while starting or stopping does not route to a process that would drop the work.
 */
export class Readiness {
  state: LifecycleState = 'starting';
  private readonly checks = new Map<string, ReadinessCheck>();

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  report(): ReadinessReport {
    const checks: Record<string, CheckResult> = {};
    let ok = this.state === 'running';
    for (const [name, check] of this.checks) {
      let result: CheckResult;
      try {
        result = check();
      } catch (error) {
        result = { ok: false, detail: (error as Error).message };
      }
      checks[name] = result;
      ok &&= result.ok;
    }
    return { ready: ok, state: this.state, checks };
  }
}
