"""The device check's reference: BERT-base in PyTorch (eager and
torch.compile) on the same GPU, its GEMMs alone through cuBLAS, and the
acceptance table that holds Kiln's BERT-base timings against them
(tools/gpu_check.py runs these on the lent machine, where PyTorch is)."""

import statistics


def with_fused_attention_flops(stats: dict, batch: int, seq: int = 128) -> dict:
    """kiln-bench counts the FLOPs of the runtime's GEMM calls; with
    --gpu-attention=fused BERT-base's attention products (Q K^T and P V,
    12 layers of 12 heads of 64) run in the fused kernel instead, on the
    tensor cores too: they are added here, so that every variant's GEMM
    share counts the same products."""
    if not stats.get("flops") or not stats.get("latency_ms"):
        return stats
    layers, heads, head_dim = 12, 12, 64
    attention = layers * 2 * (2 * batch * heads * seq * seq * head_dim)
    stats["flops"] += attention
    stats["gflops_per_s"] = stats["flops"] / (stats["latency_ms"]["median"] * 1e6)
    stats["flops_source"] = f"{stats.get('flops_source')} + fused attention ({attention:.4g})"
    return stats


def torch_bert_base(attention: str, batches=(1, 32), seq=128) -> list:
    """BERT-base (HuggingFace BertModel, random weights) in PyTorch eager and
    torch.compile on this GPU, its attention `attention` ("sdpa", PyTorch's
    scaled_dot_product_attention and HuggingFace's default for BERT, or
    "eager", the products and softmax as separate ops): median latency over
    CUDA events, the reference the GPU back end is measured against."""
    import torch
    from transformers import BertConfig, BertModel
    rows = []
    config = BertConfig(attn_implementation=attention)
    for dtype in (torch.float16,):
        torch.manual_seed(0)
        model = BertModel(config).eval().to("cuda", dtype)
        compiled = torch.compile(model)
        for batch in batches:
            ids = torch.randint(0, 30000, (batch, seq), device="cuda")
            mask = torch.ones_like(ids)
            for name, fn in (("eager", model), ("torch.compile", compiled)):
                with torch.inference_mode():
                    for _ in range(5):
                        fn(input_ids=ids, attention_mask=mask)
                    torch.cuda.synchronize()
                    times = []
                    for _ in range(30):
                        start = torch.cuda.Event(enable_timing=True)
                        end = torch.cuda.Event(enable_timing=True)
                        start.record()
                        fn(input_ids=ids, attention_mask=mask)
                        end.record()
                        torch.cuda.synchronize()
                        times.append(start.elapsed_time(end))
                rows.append({"framework": name, "attention": attention,
                             "dtype": str(dtype).split(".")[-1], "batch": batch, "seq": seq,
                             "median_ms": round(statistics.median(times), 3)})
                print(f"  torch {name:13} {attention:5} attention {rows[-1]['dtype']:8} batch "
                      f"{batch:2}: {rows[-1]['median_ms']:.3f} ms", flush=True)
        del model, compiled
        torch.cuda.empty_cache()
    return rows


# Dense (no sparsity) fp16 tensor-core peaks in TFLOP/s, by the name CUDA
# gives the device: NVIDIA's datasheet figures for the SXM parts.
DENSE_FP16_PEAK_TFLOPS = {"NVIDIA H200": 989.4, "NVIDIA H100 80GB HBM3": 989.4}


def dense_fp16_peak_tflops():
    """This GPU's dense fp16 peak, or None for a device not in the table."""
    import torch
    name = torch.cuda.get_device_name()
    return next((peak for prefix, peak in DENSE_FP16_PEAK_TFLOPS.items()
                 if name.startswith(prefix)), None)


def acceptance(bench_rows: list, torch_rows: list, peak_tflops) -> list:
    """The issue's must-shows from one run: each BERT-base variant's latency
    with device I/O (as PyTorch's tensors stay on the GPU) over
    torch.compile's (<= 1.0x) and eager's (<= 0.5x) in fp16 at the same
    batch, each PyTorch figure the faster of its attention implementations
    timed, and the GEMMs' FLOPs over the whole run's latency as a share of
    the dense fp16 peak (a lower bound of the GEMMs' own share)."""
    reference, attention_of = {}, {}
    for r in torch_rows:
        key = (r["framework"], r["batch"])
        if r["dtype"] == "float16" and r["median_ms"] < reference.get(key, float("inf")):
            reference[key], attention_of[key] = r["median_ms"], r.get("attention")
    rows = []
    print("== acceptance: BERT-base s128 fp16, Kiln (device I/O) against PyTorch on this GPU")
    for b in bench_rows:
        if b.get("io") != "device" or "latency_ms" not in b:
            continue
        ms = b["latency_ms"]["median"]
        row = {"variant": b["variant"], "batch": b["batch"], "kiln_ms": ms}
        compiled = reference.get(("torch.compile", b["batch"]))
        eager = reference.get(("eager", b["batch"]))
        if compiled:
            row.update(vs_torch_compile=round(ms / compiled, 3), within_torch_compile=ms <= compiled,
                       torch_compile_attention=attention_of[("torch.compile", b["batch"])])
        if eager:
            row.update(vs_eager=round(ms / eager, 3), within_half_eager=ms <= 0.5 * eager,
                       eager_attention=attention_of[("eager", b["batch"])])
        if peak_tflops and b.get("gflops_per_s"):
            row["gemm_share_of_dense_fp16_peak"] = round(b["gflops_per_s"] / 1000 / peak_tflops, 3)
        rows.append(row)
        verdict = lambda key: {True: "ok", False: "NOT MET"}.get(row.get(key), "?")
        print(f"  {row['variant']:24} batch {row['batch']:2}: {ms:.3f} ms, "
              f"{row.get('vs_torch_compile', float('nan')):.2f}x torch.compile/"
              f"{row.get('torch_compile_attention')} ({verdict('within_torch_compile')}), "
              f"{row.get('vs_eager', float('nan')):.2f}x eager/{row.get('eager_attention')} "
              f"({verdict('within_half_eager')}), GEMMs "
              f"{100 * row.get('gemm_share_of_dense_fp16_peak', float('nan')):.1f}% of peak")
    return rows


def bert_base_gemms(batches=(1, 32), seq=128) -> list:
    """BERT-base's GEMMs alone (the 6 per layer, attention's batched over
    heads), through PyTorch (cuBLAS) in fp16 and fp32 on random data: what
    the GEMMs cost at best on this GPU, and their share of its peak."""
    import torch
    rows = []
    hidden, heads, ffn, layers = 768, 12, 3072, 12
    head_dim = hidden // heads
    for dtype in (torch.float16, torch.float32):
        for batch in batches:
            tokens = batch * seq
            shapes = [((tokens, hidden), (hidden, hidden), 4),   # Q, K, V, output
                      ((tokens, hidden), (hidden, ffn), 1),
                      ((tokens, ffn), (ffn, hidden), 1),
                      ((batch * heads, seq, head_dim), (batch * heads, head_dim, seq), 1),
                      ((batch * heads, seq, seq), (batch * heads, seq, head_dim), 1)]
            operands = [(torch.randn(a, device="cuda", dtype=dtype),
                         torch.randn(b, device="cuda", dtype=dtype), n) for a, b, n in shapes]
            flops = layers * sum(2 * n * x.numel() * y.shape[-1] for x, y, n in operands)

            def step():
                for x, y, n in operands:
                    for _ in range(n):
                        torch.matmul(x, y)
            for _ in range(3):
                for _ in range(layers):
                    step()
            torch.cuda.synchronize()
            times = []
            for _ in range(20):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(layers):
                    step()
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end))
            ms = statistics.median(times)
            rows.append({"dtype": str(dtype).split(".")[-1], "batch": batch, "seq": seq,
                         "gflop": round(flops / 1e9, 2), "median_ms": round(ms, 3),
                         "tflops": round(flops / ms / 1e9, 1)})
            print(f"  GEMMs only {rows[-1]['dtype']:8} batch {batch:2}: {ms:.3f} ms, "
                  f"{rows[-1]['tflops']} TFLOP/s ({rows[-1]['gflop']} GFLOP)", flush=True)
    return rows
