"""Treatment intensity: continuous and multi-valued doses, treatments that switch on and off."""
