/** RFC 5880 §6.2 / §6.8.6 transitions, one line each, with no socket and no waiting. */
import { expect } from 'chai';
import { transition, type FsmEvent, type FsmState } from '../../../../speaker/bfd/fsm.js';
import { DIAG, type BfdState } from '../../../../speaker/bfd/packet.js';

const recv = (remoteState: BfdState): FsmEvent => ({ type: 'Recv', remoteState });
const at = (name: BfdState, diag = 0): FsmState => ({ name, diag });

const cases: { from: BfdState; event: FsmEvent; to: BfdState; diag?: number; actions: string[] }[] = [
  { from: 'AdminDown', event: { type: 'Enable' }, to: 'Down', diag: DIAG.none, actions: ['sendNow'] },
  { from: 'AdminDown', event: recv('Down'), to: 'AdminDown', actions: [] },
  { from: 'AdminDown', event: recv('Init'), to: 'AdminDown', actions: [] },
  { from: 'AdminDown', event: { type: 'DetectTimeout' }, to: 'AdminDown', actions: [] },
  { from: 'AdminDown', event: { type: 'AdminDown' }, to: 'AdminDown', actions: [] },
  { from: 'Down', event: recv('Down'), to: 'Init', actions: ['sendNow'] },
  { from: 'Down', event: recv('Init'), to: 'Up', diag: DIAG.none, actions: ['sendNow', 'up'] },
  { from: 'Down', event: recv('Up'), to: 'Down', actions: [] },
  { from: 'Down', event: recv('AdminDown'), to: 'Down', actions: [] },
  { from: 'Down', event: { type: 'DetectTimeout' }, to: 'Down', actions: ['forgetRemote'] },
  {
    from: 'Down',
    event: { type: 'AdminDown' },
    to: 'AdminDown',
    diag: DIAG.administrativelyDown,
    actions: ['sendNow'],
  },
  { from: 'Down', event: { type: 'Enable' }, to: 'Down', actions: [] },
  { from: 'Init', event: recv('Down'), to: 'Init', actions: [] },
  { from: 'Init', event: recv('Init'), to: 'Up', diag: DIAG.none, actions: ['sendNow', 'up'] },
  { from: 'Init', event: recv('Up'), to: 'Up', diag: DIAG.none, actions: ['sendNow', 'up'] },
  { from: 'Init', event: recv('AdminDown'), to: 'Down', diag: DIAG.neighborSignaledSessionDown, actions: ['sendNow'] },
  {
    from: 'Init',
    event: { type: 'DetectTimeout' },
    to: 'Down',
    diag: DIAG.controlDetectionTimeExpired,
    actions: ['sendNow', 'forgetRemote'],
  },
  {
    from: 'Init',
    event: { type: 'AdminDown' },
    to: 'AdminDown',
    diag: DIAG.administrativelyDown,
    actions: ['sendNow'],
  },
  { from: 'Up', event: recv('Up'), to: 'Up', actions: [] },
  { from: 'Up', event: recv('Init'), to: 'Up', actions: [] },
  {
    from: 'Up',
    event: recv('Down'),
    to: 'Down',
    diag: DIAG.neighborSignaledSessionDown,
    actions: ['sendNow', 'down:3'],
  },
  {
    from: 'Up',
    event: recv('AdminDown'),
    to: 'Down',
    diag: DIAG.neighborSignaledSessionDown,
    actions: ['sendNow', 'down:3'],
  },
  {
    from: 'Up',
    event: { type: 'DetectTimeout' },
    to: 'Down',
    diag: DIAG.controlDetectionTimeExpired,
    actions: ['sendNow', 'down:1', 'forgetRemote'],
  },
  {
    from: 'Up',
    event: { type: 'AdminDown' },
    to: 'AdminDown',
    diag: DIAG.administrativelyDown,
    actions: ['sendNow', 'down:7'],
  },
];

describe('BFD FSM (RFC 5880 §6.8.6)', () => {
  for (const c of cases) {
    const label = c.event.type === 'Recv' ? `Recv ${c.event.remoteState}` : c.event.type;
    it(`${c.from} + ${label} -> ${c.to} [${c.actions.join(', ')}]`, () => {
      const t = transition(at(c.from, 5), c.event);
      expect(t.state.name).to.equal(c.to);
      if (c.diag !== undefined) expect(t.state.diag).to.equal(c.diag);
      expect(t.actions.map((a) => (a.type === 'down' ? `down:${a.diag}` : a.type))).to.deep.equal(c.actions);
    });
  }

  it('keeps the last diagnostic while Down, so the peer learns why', () => {
    expect(transition(at('Down', DIAG.controlDetectionTimeExpired), recv('Down')).state).to.deep.equal({
      name: 'Init',
      diag: DIAG.controlDetectionTimeExpired,
    });
  });
});
