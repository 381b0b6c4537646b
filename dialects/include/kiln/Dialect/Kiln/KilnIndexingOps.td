//===- KilnIndexingOps.td - TopK and the scatters --------------*- tablegen -*-===//
//
// Ops whose results depend on where data-dependent indices point: top_k
// selects elements by their order, the scatters write updates at positions
// an index tensor holds. Included by KilnOps.td; their verifiers and result
// type inference live in KilnIndexingOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_INDEXING_OPS_TD
#define KILN_DIALECT_KILN_INDEXING_OPS_TD

def Kiln_TopKOp : Kiln_Op<"top_k"> {
  let summary = "The k largest (or smallest) elements along `axis`, sorted, and their indices";
  let description = [{
    Both results have the input's shape with dim `axis` replaced by `k`.
    Elements are ordered by value (NaN above every number), ties by the
    lower index, as ONNX TopK with sorted = 1 orders them; `indices` holds
    their positions along `axis`.
    ```mlir
    %v, %i = kiln.top_k %x {axis = 1 : i64, k = 3 : i64, largest = true}
             : (tensor<?x10xf32>) -> (tensor<?x3xf32>, tensor<?x3xi64>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis, I64Attr:$k,
                   DefaultValuedAttr<BoolAttr, "true">:$largest);
  let results = (outs Kiln_Tensor:$values, TensorOf<[I64]>:$indices);
  let hasVerifier = 1;
}

def Kiln_ScatterElementsOp : Kiln_Op<"scatter_elements"> {
  let summary = "A copy of data with updates written where indices point along `axis` (ONNX ScatterElements)";
  let description = [{
    `indices` and `updates` have one shape, of the data's rank and no larger
    than it; update u[p] goes to data[p with dim `axis` replaced by
    indices[p]] (negative indices count from the end). `reduction` combines
    it with the element there: `none` (replace; the last of duplicate
    indices wins), `add`, `mul`, `max` or `min`.
    ```mlir
    %0 = kiln.scatter_elements %data, %idx, %upd {axis = 1 : i64, reduction = "add"}
         : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices, Kiln_Tensor:$updates,
                   I64Attr:$axis, DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

def Kiln_ScatterNDOp : Kiln_Op<"scatter_nd"> {
  let summary = "A copy of data with slices written at index tuples (ONNX ScatterND)";
  let description = [{
    Each index tuple (the last dim of `indices`, of static length m) names
    the slice data[i0, ..., im-1, :]; `updates` has the shape
    indices.shape[:-1] + data.shape[m:] and holds one slice per tuple.
    Negative indices count from the end; `reduction` is as in
    kiln.scatter_elements.
    ```mlir
    %0 = kiln.scatter_nd %data, %idx, %upd {reduction = "none"}
         : (tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices, Kiln_Tensor:$updates,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Kiln_Tensor:$output);
  let hasVerifier = 1;
}

#endif // KILN_DIALECT_KILN_INDEXING_OPS_TD
