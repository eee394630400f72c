"""White noise at a signal-to-noise ratio, measured on the active signal.

Used by AV-Digits' load-time SNR knob (``AVDigitsImbalance``) and by the
robustness tool's audio corruptions, so that both mean the same by an SNR.
"""
import numpy as np

#: |x| above which an audio sample counts as speech for the SNR.
ACTIVE_LEVEL = 0.02


def add_noise_at_snr(wave: np.ndarray, snr_db: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Add white noise so that active-signal power / noise power = SNR.

    The signal power is measured over active samples (|x| > 0.02) so that
    the silence around a short word does not make the noise weaker.
    """
    wave = np.asarray(wave, np.float32)
    active = wave[np.abs(wave) > ACTIVE_LEVEL]
    power = float(np.mean(active.astype(np.float64) ** 2)) if active.size \
        else float(np.mean(wave.astype(np.float64) ** 2))
    if power == 0.0:
        return wave
    noise_std = np.sqrt(power / 10.0 ** (float(snr_db) / 10.0))
    return (wave + noise_std * rng.standard_normal(wave.shape)).astype(
        np.float32)
