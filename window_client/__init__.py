"""Window Client: acceptance, tolerance, issuance and sync for a 全科综合窗口."""

__version__ = "0.1.0"
