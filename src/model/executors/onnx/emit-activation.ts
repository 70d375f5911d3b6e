/**
 * Element-wise activations as ONNX nodes: the real function, and its derivative at the pre-activation z
 * (the frozen pattern). Conventions at kinks follow TF's gradients, as the TF.js executor's do, so both
 * engines and tf.grad agree exactly: relu'(0) = 0, leakyRelu'(0) = α, relu6' = 1 on (0, 6].
 */
import { errors } from '../../../errors/index.js';
import type { Op } from '../../ir.js';
import type { GraphBuilder } from './graph-builder.js';

type ActivationOp = Extract<Op, { kind: 'activation' }>;

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

function float(b: GraphBuilder, boolValue: string): string {
  return b.op('Cast', [boolValue], { to: 1 });
}

function sigmoid(b: GraphBuilder, z: string): string {
  return b.op('Sigmoid', [z]);
}

/** 0.5·(1 + erf(z/√2)), the standard normal CDF. */
function normalCdf(b: GraphBuilder, z: string): string {
  const erf = b.op('Erf', [b.op('Mul', [z, b.scalar(Math.SQRT1_2)])]);
  return b.op('Mul', [b.op('Add', [erf, b.scalar(1)]), b.scalar(0.5)]);
}

/** Whether the derivative is read from the activation's output y rather than z (lets Conv+Relu fuse). */
export function derivativeFromOutput(op: ActivationOp): boolean {
  const plainRelu = op.fn === 'relu' && (op.threshold ?? 0) === 0 && op.maxValue === undefined;
  return plainRelu || (op.fn === 'leakyRelu' && (op.alpha ?? 0.3) > 0) || ['sigmoid', 'tanh'].includes(op.fn);
}

/** y = act(z); `slopes` names PReLU's slope constant. */
export function emitActivation(b: GraphBuilder, op: ActivationOp, z: string, slopes: string | null): string {
  switch (op.fn) {
    case 'linear':
      return z;
    case 'relu': {
      const threshold = op.threshold ?? 0;
      if (threshold === 0 && op.maxValue === undefined) return b.op('Relu', [z]);
      const kept = b.op('Mul', [z, float(b, b.op('Greater', [z, b.scalar(threshold)]))]);
      return op.maxValue === undefined ? kept : b.op('Min', [kept, b.scalar(op.maxValue)]);
    }
    case 'relu6':
      return b.op('Clip', [z, b.scalar(0), b.scalar(6)]);
    case 'leakyRelu':
      return b.op('LeakyRelu', [z], { alpha: { float: op.alpha ?? 0.3 } });
    case 'prelu':
      return b.op('PRelu', [z, slopes!]);
    case 'elu':
      return b.op('Elu', [z], { alpha: { float: op.alpha ?? 1 } });
    case 'selu':
      return b.op('Selu', [z], { alpha: { float: SELU_ALPHA }, gamma: { float: SELU_SCALE } });
    case 'sigmoid':
      return sigmoid(b, z);
    case 'hardSigmoid':
      return b.op('HardSigmoid', [z], { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case 'tanh':
      return b.op('Tanh', [z]);
    case 'swish':
      return b.op('Mul', [z, sigmoid(b, z)]);
    case 'softplus':
      return b.op('Softplus', [z]);
    case 'softsign':
      return b.op('Softsign', [z]);
    case 'gelu':
      return b.op('Mul', [z, normalCdf(b, z)]);
    default:
      throw errors.internal(`activation ${String((op as ActivationOp).fn)} has no ONNX forward rule`);
  }
}

/** act'(z) as float32, given z and y = act(z); not for 'linear', which has no pattern. */
export function emitDerivative(b: GraphBuilder, op: ActivationOp, z: string, y: string, slopes: string | null): string {
  const positive = (v: string) => b.op('Greater', [v, b.scalar(0)]);
  const one = () => b.scalar(1);
  switch (op.fn) {
    case 'relu': {
      if (derivativeFromOutput(op)) return float(b, positive(y));
      const above = b.op('Greater', [z, b.scalar(op.threshold ?? 0)]);
      if (op.maxValue === undefined) return float(b, above);
      return float(b, b.op('And', [above, b.op('Less', [z, b.scalar(op.maxValue)])]));
    }
    case 'relu6':
      return float(b, b.op('And', [positive(z), b.op('LessOrEqual', [z, b.scalar(6)])]));
    case 'leakyRelu':
      return b.op('Where', [positive(derivativeFromOutput(op) ? y : z), one(), b.scalar(op.alpha ?? 0.3)]);
    case 'prelu':
      return b.op('Where', [positive(z), one(), slopes!]);
    case 'elu':
      return b.op('Where', [positive(z), one(), b.op('Mul', [b.op('Exp', [z]), b.scalar(op.alpha ?? 1)])]);
    case 'selu': {
      const d = b.op('Where', [positive(z), one(), b.op('Mul', [b.op('Exp', [z]), b.scalar(SELU_ALPHA)])]);
      return b.op('Mul', [d, b.scalar(SELU_SCALE)]);
    }
    case 'sigmoid':
      return b.op('Mul', [y, b.op('Sub', [one(), y])]);
    case 'hardSigmoid': {
      const inside = b.op('And', [b.op('Greater', [z, b.scalar(-2.5)]), b.op('Less', [z, b.scalar(2.5)])]);
      return b.op('Mul', [float(b, inside), b.scalar(0.2)]);
    }
    case 'tanh':
      return b.op('Sub', [one(), b.op('Mul', [y, y])]);
    case 'swish': {
      const s = sigmoid(b, z);
      return b.op('Add', [s, b.op('Mul', [b.op('Mul', [z, s]), b.op('Sub', [one(), s])])]);
    }
    case 'softplus':
      return sigmoid(b, z);
    case 'softsign': {
      const d = b.op('Add', [b.op('Abs', [z]), one()]);
      return b.op('Reciprocal', [b.op('Mul', [d, d])]);
    }
    case 'gelu': {
      const pdf = b.op('Mul', [b.op('Exp', [b.op('Mul', [b.op('Mul', [z, z]), b.scalar(-0.5)])]), b.scalar(1 / Math.sqrt(2 * Math.PI))]);
      return b.op('Add', [normalCdf(b, z), b.op('Mul', [z, pdf])]);
    }
    default:
      throw errors.internal(`activation ${String((op as ActivationOp).fn)} has no ONNX derivative rule`);
  }
}
