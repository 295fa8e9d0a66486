import { HomeController, type Applied, type HomeReadings } from './controller.js';
import type { ControlMessage } from './manifest.js';
import { loadPolicy, type LoadedPolicy } from './policy.js';

/**
 * A home gateway in one object: an exported folder's policy driving the home controller. Each slot
 * the integrator passes what the meters and the user say (`HomeReadings`) and gets the control
 * messages; the observation, the exact mask and the state between slots are the controller's.
 */

/** What one slot decided. Arrays and messages are reused by the next step: copy what you keep. */
export interface SlotDecision {
  observation: Float32Array;
  /** The exact flat mask the policy chose in. */
  mask: Uint8Array;
  /** The policy's flat action. */
  action: number;
  applied: Applied;
  /** One per appliance and for the EV: { device, command, powerKw } (kW, grid side). */
  messages: readonly ControlMessage[];
}

export interface GatewayHome {
  readonly policy: LoadedPolicy;
  readonly controller: HomeController;
  /** Start a day (call at 00:00, before slot 0's readings). */
  begin(): void;
  /** One slot: observe the readings, act inside the exact mask, apply the action. */
  step(readings: HomeReadings): SlotDecision;
}

/** The controller of a loaded policy's home (policy.json `action` and `home`). */
export function gatewayHome(policy: LoadedPolicy): GatewayHome {
  const controller = new HomeController(policy.manifest);
  const observation = new Float32Array(controller.obsSize);
  const decision: SlotDecision = { observation, mask: controller.flatMask(), action: 0, applied: controller.applied, messages: [] };
  return {
    policy,
    controller,
    begin: () => controller.newDay(),
    step(readings) {
      controller.observe(readings, observation);
      controller.flatMask(decision.mask);
      decision.action = policy.act(observation, decision.mask);
      decision.applied = controller.apply(decision.action);
      decision.messages = controller.messages();
      return decision;
    },
  };
}

/** Loads and checks an exported folder (loadPolicy) and gives its home controller. */
export function loadController(dir: string): GatewayHome {
  return gatewayHome(loadPolicy(dir));
}
