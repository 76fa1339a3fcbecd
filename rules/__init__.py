"""Pure rules the platform decides by: plan limits and metering, prices, spend spikes, health and
compliance scores, telemetry analysis, upgrade proposals, Stripe event parsing. No I/O; usable from
the API, activities and (passed through the sandbox) workflows alike."""
