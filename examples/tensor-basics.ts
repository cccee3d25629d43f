/**
 * The seed tutorial's tensor section, line for line: scalars, vectors, matrices and 3-D tensors,
 * `+ - * /` as methods, torch.add/sub/mul/div/dot/matmul, and PyTorch's printed text.
 * Run: npm run example -- tensor-basics
 */
import * as torch from 'wgtorch';

/** Runs the section, sending each printed line to `print` (console.log by default). */
export function tensorBasics(print: (line: string) => void = console.log): void {
  // Python's print(a, b) joins its arguments with one space.
  const p = (...args: unknown[]) => print(args.map(String).join(' '));

  const sc1 = torch.tensor([1]);
  const sc2 = torch.tensor([3]);
  p(`${sc1} ::: ${sc2}`);

  // 단순 사칙연산 (no operator overloading in JS: sc1 + sc2 is sc1.add(sc2))
  p(`add_scalar : ${sc1.add(sc2)}`);
  p(`sub_scalar : ${sc1.sub(sc2)}`);
  p(`mul_scalar : ${sc1.mul(sc2)}`);
  p(`div_scalar : ${sc1.div(sc2)}`);
  // torch 내장 함수
  p(`add_scalar ${torch.add(sc1, sc2)}`);
  p(`sub_scalar ${torch.sub(sc1, sc2)}`);
  p(`mul_scalar ${torch.mul(sc1, sc2)}`);
  p(`div_scalar ${torch.div(sc1, sc2)}`);

  const [v1, v2] = [torch.tensor([1, 2, 3]), torch.tensor([4, 5, 6])];
  p(v1, v2);
  p(`add_scalar : ${v1.add(v2)}`);
  p(`sub_scalar : ${v1.sub(v2)}`);
  p(`mul_scalar : ${v1.mul(v2)}`);
  p(`div_scalar : ${v1.div(v2)}`);
  p(`add_scalar ${torch.add(v1, v2)}`);
  p(`sub_scalar ${torch.sub(v1, v2)}`);
  p(`mul_scalar ${torch.mul(v1, v2)}`);
  p(`div_scalar ${torch.div(v1, v2)}`);
  // Python formats a 0-dim tensor inside an f-string through Tensor.__format__, which formats
  // t.item() as a Python float: `32.0`, not `tensor(32.)`. pyFloatRepr is Python's float repr.
  p(`dot_scalar ${torch.pyFloatRepr(torch.dot(v1, v2).itemSync())}`);

  const [mat1, mat2] = [torch.tensor([[1, 2], [3, 4]]), torch.tensor([[5, 6], [7, 8]])];
  p(mat1, '\n', mat2);
  p(`add_scalar : ${mat1.add(mat2)}`);
  p(`sub_scalar : ${mat1.sub(mat2)}`);
  p(`mul_scalar : ${mat1.mul(mat2)}`);
  p(`div_scalar : ${mat1.div(mat2)}`);
  p(`add_scalar ${torch.add(mat1, mat2)}`);
  p(`sub_scalar ${torch.sub(mat1, mat2)}`);
  p(`mul_scalar ${torch.mul(mat1, mat2)}`);
  p(`div_scalar ${torch.div(mat1, mat2)}`);
  p(`mat_mul_scalar ${torch.matmul(mat1, mat2)}`);

  const tensor1 = torch.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
  p(tensor1);
  p();
  const tensor2 = torch.tensor([[[9, 10], [11, 12]], [[13, 14], [15, 16]]]);
  p(tensor2);
  p(tensor1.add(tensor2)); // add
  p(tensor1.sub(tensor2)); // sub
  p(tensor1.mul(tensor2)); // multiple
  p(tensor1.div(tensor2)); // divide
  p(torch.add(tensor1, tensor2));
  p(torch.sub(tensor1, tensor2));
  p(torch.mul(tensor1, tensor2));
  p(torch.div(tensor1, tensor2));
  p(torch.matmul(tensor1, tensor2));
}

/** Entry point of `npm run example -- tensor-basics`. */
export function main(): void {
  tensorBasics();
}
