"""Per-symbol features from the tick stream: time and activity bars, microstructure, liquidity,
realized variance, rolling helpers, cross-asset statistics, and the feature set that names them.
"""

from operators.features.symbol import FeatureConfig, FeatureLayout, SymbolFeatures, feature_layout, feature_names, register_config
from operators.features.bars import Bar, TimeBarBuilder
from operators.features.activity_bars import DollarBarBuilder, TickBarBuilder, VolumeBarBuilder
from operators.features.cross_asset import CrossAssetConfig, PairCorrelation, pair_keys, pair_name
from operators.features.feature_set import IndicatorFeature, feature_set_version
from operators.features.liquidity import AmihudIlliquidity, KyleLambda, LaggedMid, QuoteStaleness, RollSpread
from operators.features.microstructure import OrderFlowImbalance, SignedVolumeImbalance, TradeSideClassifier
from operators.features.realized_variance import RealizedVariance
from operators.features.rolling import RollingSums

__all__ = ["AmihudIlliquidity", "Bar", "CrossAssetConfig", "DollarBarBuilder", "FeatureConfig", "FeatureLayout", "IndicatorFeature", "KyleLambda", "LaggedMid", "OrderFlowImbalance", "PairCorrelation", "QuoteStaleness", "RealizedVariance", "RollSpread", "RollingSums", "SignedVolumeImbalance", "SymbolFeatures", "TickBarBuilder", "TimeBarBuilder", "TradeSideClassifier", "VolumeBarBuilder", "feature_layout", "feature_names", "feature_set_version", "pair_keys", "pair_name", "register_config"]
