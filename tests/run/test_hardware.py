"""masktrainer.run.hardware: what the CPU offers, read from /proc/cpuinfo."""

from __future__ import annotations

from masktrainer.run import hardware


def test_cpu_flags_are_read_from_cpuinfo(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx512f "
                    "avx512_bf16\n\n")
    monkeypatch.setattr(hardware, "CPUINFO", info)
    assert hardware.cpu_has_native_bfloat16() and hardware.cpu_model() == "Some CPU"
    info.write_text("model name\t: Old CPU\nflags\t\t: fpu avx2\n")
    assert not hardware.cpu_has_native_bfloat16()
    assert hardware.describe_cpu()["bfloat16_flags"] == []
    monkeypatch.setattr(hardware, "CPUINFO", tmp_path / "absent")
    assert hardware.cpu_flags() == frozenset()
