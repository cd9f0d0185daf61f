"""Thresholds of the perception stage, in one place (bench mm, seconds, normalised units)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PerceptionConfig:
    """Every threshold perception uses. Distances in bench mm, times in seconds.

    Normalised units: the camera's view divided by what it should see of the empty bench under the
    current projection (1.0 = looks like the bench as calibrated).
    """

    # --- foreground -------------------------------------------------------------------------------
    fg_abs_grey: float = 8.0  # grey levels a pixel must differ from its prediction, plus ...
    fg_rel: float = 0.1  # ... this fraction of the predicted level
    shadow_min_ratio: float = 0.4  # an even dimming down to this (all channels alike) is a shadow ...
    # ... not foreground
    shadow_chroma: float = 0.1  # 'alike': each channel within this fraction of the mean dimming
    envelope_px: int = 1  # tolerance to projection misregistration/blur: min/max over (2k+1)² px
    min_component_mm2: float = 600.0  # smaller foreground blobs are noise
    edge_band_mm: float = 12.0  # a hand/arm component touches the operator's edge (y = 0) within this
    # a foreground piece of at least arm_piece_min_mm2 within arm_gap_mm of an arm's hand end, reaching
    # further, continues that arm across a stretch where it looks like the bench (0: never joined)
    arm_gap_mm: float = 120.0
    arm_piece_min_mm2: float = 5000.0
    lean_fraction: float = 0.35  # hands covering more of the bench than this: someone leans over it
    # fit the light gains on every n-th background pixel in each direction. Every 8th (~3000 samples)
    # would save ~2.5 ms a frame, but shifted the projector's gain by ~0.04, and with it the foreground
    # of a fingertip resting in a blinking highlight: led_hesitation's first screw hole was never reached
    gain_sample_step: int = 4
    # --- background model ---------------------------------------------------------------------------
    absorb_after_s: float = 0.5  # a non-hand change this long static and unobstructed joins the background
    static_tol: float = 0.06  # normalised change per frame (10 mm average) still counted as static
    hand_clear_mm: float = 30.0  # a change this close to a hand is not absorbed
    # an even dimming (shadow-like) static this long away from hands joins the background too (a strip of
    # bench uncovered where a part was set down a little off), reversibly: where the view later fits the
    # model from before it again, that model is back at once (a shadow that went away). 0: never
    dim_absorb_after_s: float = 2.0
    drift_rate: float = 0.0  # per-frame blend of the background towards the view where clear (0: off)
    # a pixel off the background model by more than fit_tol (a shadow, a part just taken away) is left out
    # of the next light-gain fit, unless that is more than fit_global_fraction of the clear bench (the
    # light changed)
    fit_tol: float = 0.15
    fit_global_fraction: float = 0.3
    # --- hands ----------------------------------------------------------------------------------------
    tip_band_mm: float = 12.0  # the fingertips: outline points this close to the furthest reach
    # the tip is looked for in the arm opened by a disc this wide: thinner strands joined to it (seams along
    # projected edges, a strip of shadow) are not fingers
    finger_min_width_mm: float = 9.0
    fingertip_radius_mm: float = 12.0  # a resting hand is in the zones this disc around its tip touches
    rest_speed_mm_s: float = 150.0  # ... resting: its tip slower than this (a moving tip: the point only)
    hand_length_mm: float = 150.0  # the palm centre is looked for in this last stretch of an arm
    outline_epsilon_mm: float = 4.0  # polygon simplification of hand outlines
    hand_mask_margin_mm: float = 10.0  # outlines are grown by this before they go to the renderer
    # a hand well above the bench looks larger on the bench plane (parallax: H / (H - z) for a camera H
    # above the bench). Its width (mean over the last hand_length_mm of the arm) is compared with its width
    # at bench level: the lower quartile of the widths of hands resting in zones (the last
    # hand_width_samples frames of it, once there are hand_width_min_samples), this until then
    bench_hand_width_mm: float = 95.0
    raised_width_ratio: float = 1.1  # wider than bench level by this factor: raised (z ~ 130 mm at H = 1.4 m)
    hand_width_samples: int = 300
    hand_width_min_samples: int = 30
    # --- picks ----------------------------------------------------------------------------------------
    zone_margin_mm: float = 8.0  # a tip enters a bin this far inside ...
    zone_exit_mm: float = 25.0  # ... and leaves it this far outside for exit_hold_s, or 3× as far at once
    exit_hold_s: float = 0.2
    reach_slow_mm_s: float = 150.0  # the tip counts as stopped below this speed ...
    reach_dwell_s: float = 0.1  # ... for this long inside the bin (a grasp)
    max_tip_step_mm: float = 80.0  # a tip moving further between two frames leapt (did not cross a rim)
    speed_window_s: float = 0.1  # tip speed measured over this window
    # --- presence -------------------------------------------------------------------------------------
    presence_smooth_mm: float = 10.0  # zone looks are averaged over this (box), against sensor noise
    presence_pixel_delta: float = 0.1  # normalised change of one pixel that counts as changed ...
    presence_shift_mm: float = 4.0  # ... beyond the range of its reference's look within this distance
    presence_fraction: float = 0.2  # fraction of the zone that must change to call it occupied
    presence_hand_margin_mm: float = 40.0  # a hand/arm this close to a zone covers it (and its shadow)
    presence_erode_mm: float = 4.0  # zone edges ignored (registration tolerance)
    # --- markers --------------------------------------------------------------------------------------
    marker_roi_margin: float = 1.5  # ROI = marker box grown by this many marker sizes on every side
    marker_full_every: int = 15  # while lost, search the whole frame every n-th frame
    pose_tol_mm: float = 1.5  # a fixture pose change below this keeps the zone masks
    pose_tol_deg: float = 0.5
    # --- the camera's view kept in line with the bench (oss.perception.alignment) -----------------------
    align_every: int = 6  # compare the view with its prediction every n-th frame (0: never)
    align_threshold_mm: float = 1.0  # a shift beyond this ...
    align_confirm: int = 2  # ... seen this many times in a row ...
    align_agree_mm: float = 1.0  # ... the same within this, is corrected
    align_min_response: float = 0.05  # phase correlation peak below this: no measurement
    align_min_ecc: float = 0.8  # the refined match's correlation below this: no measurement
    align_max_mm: float = 15.0  # further off in all than this: not followed, recalibrate
    align_exclude_mm: float = 40.0  # jigs (their zones and markers) grown by this are left out of it
