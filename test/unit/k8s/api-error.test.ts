/** KubeApiError: one stable `code` per kind of failure, so callers branch on it (not on statusCode or text). */
import { expect } from 'chai';
import { HeraldError } from '../../../src/core/errors.js';
import {
  KubeApiError,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  kubeApiErrorCode,
  type KubeErrorReason,
} from '../../../src/k8s/api-error.js';

describe('KubeApiError codes', () => {
  const cases: { status: number; reason: KubeErrorReason; code: string }[] = [
    { status: 404, reason: 'NotFound', code: 'NotFound' },
    { status: 409, reason: 'AlreadyExists', code: 'AlreadyExists' },
    { status: 409, reason: 'Conflict', code: 'Conflict' },
    { status: 410, reason: 'Expired', code: 'Gone' },
    { status: 410, reason: 'Gone', code: 'Gone' },
    { status: 422, reason: 'Invalid', code: 'Invalid' },
    { status: 400, reason: 'BadRequest', code: 'Invalid' },
    { status: 401, reason: 'Unauthorized', code: 'Unauthorized' },
    { status: 403, reason: 'Forbidden', code: 'Forbidden' },
    { status: 429, reason: 'TooManyRequests', code: 'TooManyRequests' },
    { status: 504, reason: 'Timeout', code: 'Timeout' },
    { status: 0, reason: 'Timeout', code: 'Timeout' },
    { status: 0, reason: 'Unknown', code: 'Unavailable' },
    { status: 500, reason: 'InternalError', code: 'Unavailable' },
    { status: 503, reason: 'ServiceUnavailable', code: 'Unavailable' },
    { status: 415, reason: 'Unknown', code: 'ApiError' },
  ];
  for (const tc of cases) {
    it(`HTTP ${tc.status} ${tc.reason} is ${tc.code}`, () => {
      expect(kubeApiErrorCode(tc.status, tc.reason)).to.equal(tc.code);
      const e = new KubeApiError(tc.status, tc.reason, 'x');
      expect(e.code).to.equal(tc.code);
      expect(e).to.be.instanceOf(HeraldError);
      expect([e.statusCode, e.reason]).to.deep.equal([tc.status, tc.reason]);
    });
  }

  it('the helpers follow the code', () => {
    const table = [
      [new KubeApiError(404, 'NotFound', 'x'), [true, false, false, false]],
      [new KubeApiError(409, 'Conflict', 'x'), [false, true, false, false]],
      [new KubeApiError(409, 'AlreadyExists', 'x'), [false, false, true, false]],
      [new KubeApiError(410, 'Expired', 'x'), [false, false, false, true]],
      [new KubeApiError(500, 'InternalError', 'x'), [false, false, false, false]],
      [new Error('plain'), [false, false, false, false]],
    ] as const;
    for (const [err, want] of table)
      expect([isNotFound(err), isConflict(err), isAlreadyExists(err), isGone(err)]).to.deep.equal(want);
  });

  it('keeps the cause and the Status object', () => {
    const cause = new Error('socket hang up');
    const e = new KubeApiError(0, 'Unknown', 'GET /api: socket hang up', { cause });
    expect(e.cause).to.equal(cause);
    const status = { kind: 'Status', reason: 'NotFound' };
    expect(new KubeApiError(404, 'NotFound', 'gone', { status }).status).to.equal(status);
    expect(new KubeApiError(404, 'NotFound', 'gone').status).to.equal(undefined);
  });
});
