import { describe, expect, it } from 'vitest';
import { startProgram, stopProgram } from './child-process.js';

const idle = () => startProgram(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);

describe('stopProgram', () => {
  it('settles again for a child it already SIGKILLed (whose exitCode stays null)', async () => {
    const program = idle();
    await stopProgram(program, 'SIGKILL');
    expect(program.child.exitCode).toBeNull();
    expect(program.child.signalCode).toBe('SIGKILL');
    expect(program.ended).toBe(true);
    // The soak test stops every program at the end, the killed one included: this hung.
    await stopProgram(program);
  }, 5_000);

  it('settles for a child that ended by itself, with its output kept', async () => {
    const program = startProgram(process.execPath, ['-e', 'console.log("said"); console.error("warned")']);
    await program.exit;
    expect(program.child.exitCode).toBe(0);
    await stopProgram(program);
    expect(program.output).toContain('said');
    expect(program.output).toContain('warned');
  }, 5_000);

  it('settles for a command that cannot start', async () => {
    const program = startProgram('/nonexistent/program', []);
    await stopProgram(program);
    expect(program.ended).toBe(true);
    expect(program.output).toMatch(/ENOENT/);
  }, 5_000);
});
