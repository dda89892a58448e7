// Flag values shared by the CLI's commands (explore, explore --model, bench, env up,
// toxiproxy): zod schemas over parseArgs's strings whose messages name the flag and the fix.
import { z } from 'zod';
import { durationFlag } from '../subcommand.ts';

/** A duration: seconds, or 500ms / 30s / 10m; at least 1 s. */
export const duration = (flag: string) => durationFlag(flag, '500ms / 30s / 10m').refine((ms) => ms >= 1000, `${flag} must be at least 1s`);
/** A whole number in [min, max]. */
export const whole = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${flag} must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${flag} must be a whole number between ${min} and ${max}`);
