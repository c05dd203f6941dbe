"""pixmo_builders"""
