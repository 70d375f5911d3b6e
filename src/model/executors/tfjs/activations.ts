/**
 * Element-wise activations: the real function (for the forward pass) and its derivative at the
 * pre-activation z (the frozen pattern). Conventions at kinks follow TF's gradients, so the frozen
 * network and tf.grad agree exactly: relu'(0) = 0, leakyRelu'(0) = α, relu6' = 1 on (0, 6].
 */
import { errors } from '../../../errors/index.js';
import type { Op } from '../../ir.js';
import { tf } from '../../tf-runtime.js';

type ActivationOp = Extract<Op, { kind: 'activation' }>;
type T = tf.Tensor;

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

function between(z: T, low: number | null, high: number | null, includeHigh: boolean): T {
  const lowMask = low === null ? tf.onesLike(z) : tf.cast(tf.greater(z, low), 'float32');
  if (high === null) return lowMask;
  const highMask = tf.cast(includeHigh ? tf.lessEqual(z, high) : tf.less(z, high), 'float32');
  return tf.mul(lowMask, highMask);
}

/** alpha tensor for PReLU, shaped to broadcast over [batch, ...shape]. */
export function preluAlpha(op: ActivationOp): T | null {
  if (!op.alphaTensor) return null;
  return tf.tensor(op.alphaTensor.data, [1, ...op.alphaTensor.shape]);
}

/** y = act(z). */
export function activate(op: ActivationOp, z: T, alpha: T | null): T {
  return tf.tidy(() => {
    switch (op.fn) {
      case 'linear':
        return tf.clone(z);
      case 'relu': {
        const threshold = op.threshold ?? 0;
        const kept = tf.mul(z, between(z, threshold, null, false));
        return op.maxValue === undefined ? kept : tf.minimum(kept, op.maxValue);
      }
      case 'relu6':
        return tf.relu6(z);
      case 'leakyRelu':
        return tf.leakyRelu(z, op.alpha ?? 0.3);
      case 'prelu':
        return tf.prelu(z, alpha!);
      case 'elu': {
        const a = op.alpha ?? 1;
        return tf.where(tf.greater(z, 0), z, tf.mul(a, tf.sub(tf.exp(z), 1)));
      }
      case 'selu':
        return tf.selu(z);
      case 'sigmoid':
        return tf.sigmoid(z);
      case 'hardSigmoid':
        return tf.clipByValue(tf.add(tf.mul(z, 0.2), 0.5), 0, 1);
      case 'tanh':
        return tf.tanh(z);
      case 'swish':
        return tf.mul(z, tf.sigmoid(z));
      case 'softplus':
        return tf.softplus(z);
      case 'softsign':
        return tf.div(z, tf.add(tf.abs(z), 1));
      case 'gelu':
        return tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.div(z, Math.SQRT2))));
      default:
        throw errors.internal(`activation ${String((op as ActivationOp).fn)} has no forward rule`);
    }
  });
}

/** act'(z), the frozen pattern of an element-wise activation. */
export function derivative(op: ActivationOp, z: T, alpha: T | null): T {
  return tf.tidy(() => {
    switch (op.fn) {
      case 'linear':
        return tf.onesLike(z);
      case 'relu':
        return between(z, op.threshold ?? 0, op.maxValue ?? null, false);
      case 'relu6':
        return between(z, 0, 6, true);
      case 'leakyRelu':
        return tf.where(tf.greater(z, 0), tf.onesLike(z), tf.fill(z.shape, op.alpha ?? 0.3));
      case 'prelu':
        return tf.where(tf.greater(z, 0), tf.onesLike(z), tf.mul(tf.onesLike(z), alpha!));
      case 'elu':
        return tf.where(tf.greater(z, 0), tf.onesLike(z), tf.mul(op.alpha ?? 1, tf.exp(z)));
      case 'selu':
        return tf.mul(SELU_SCALE, tf.where(tf.greater(z, 0), tf.onesLike(z), tf.mul(SELU_ALPHA, tf.exp(z))));
      case 'sigmoid': {
        const s = tf.sigmoid(z);
        return tf.mul(s, tf.sub(1, s));
      }
      case 'hardSigmoid':
        return tf.mul(0.2, tf.cast(tf.logicalAnd(tf.greater(z, -2.5), tf.less(z, 2.5)), 'float32'));
      case 'tanh': {
        const t = tf.tanh(z);
        return tf.sub(1, tf.mul(t, t));
      }
      case 'swish': {
        const s = tf.sigmoid(z);
        return tf.add(s, tf.mul(tf.mul(z, s), tf.sub(1, s)));
      }
      case 'softplus':
        return tf.sigmoid(z);
      case 'softsign': {
        const d = tf.add(tf.abs(z), 1);
        return tf.div(1, tf.mul(d, d));
      }
      case 'gelu': {
        const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.div(z, Math.SQRT2))));
        const pdf = tf.mul(1 / Math.sqrt(2 * Math.PI), tf.exp(tf.mul(-0.5, tf.mul(z, z))));
        return tf.add(cdf, tf.mul(z, pdf));
      }
      default:
        throw errors.internal(`activation ${String((op as ActivationOp).fn)} has no derivative rule`);
    }
  });
}
