"""masktrainer.quiet: TensorFlow's start-up noise is filtered, everything else kept."""

from masktrainer.quiet import is_start_up_noise


def test_noise_filter_keeps_everything_else():
    assert is_start_up_noise("WARNING: All log messages before absl::InitializeLog() is called "
                             "are written to STDERR")
    assert is_start_up_noise("I0000 00:00:1796148692.404877   19934 cudart_stub.cc:31] Could "
                             "not find cuda drivers on your machine, GPU will not be used.")
    assert is_start_up_noise("E0000 00:00:1796148707.272036   19934 cuda_platform.cc:52] failed "
                             "call to cuInit: INTERNAL: CUDA error")
    assert not is_start_up_noise("E0000 00:00:1796148707.272036   19934 bfc_allocator.cc:52] "
                                 "Allocator ran out of memory")
    assert not is_start_up_noise("masktrainer: error: --lr must be > 0")
