"""Per-symbol features from the tick stream: time and activity bars, microstructure, liquidity,
realized variance, rolling helpers, cross-asset statistics, the feature groups that declare the
features of a row, and the feature set that names them.
"""

from operators.features.activity_bars import DollarBarBuilder, TickBarBuilder, VolumeBarBuilder
from operators.features.bars import Bar, TimeBarBuilder
from operators.features.config import FeatureConfig
from operators.features.cross_asset import CrossAssetConfig, PairCorrelation, pair_keys, pair_name
from operators.features.feature_set import IndicatorFeature, feature_set_version
from operators.features.groups import FEATURE_NAMES
from operators.features.layout import FeatureLayout, feature_layout, feature_names, register_config
from operators.features.liquidity import AmihudIlliquidity, KyleLambda, LaggedMid, QuoteStaleness, RollSpread
from operators.features.microstructure import OrderFlowImbalance, SignedVolumeImbalance, TradeSideClassifier
from operators.features.realized_variance import RealizedVariance
from operators.features.rolling import RollingSums
from operators.features.symbol import SymbolFeatures

__all__ = ["AmihudIlliquidity", "Bar", "CrossAssetConfig", "DollarBarBuilder", "FEATURE_NAMES", "FeatureConfig",
           "FeatureLayout", "IndicatorFeature", "KyleLambda", "LaggedMid", "OrderFlowImbalance", "PairCorrelation",
           "QuoteStaleness", "RealizedVariance", "RollSpread", "RollingSums", "SignedVolumeImbalance",
           "SymbolFeatures", "TickBarBuilder", "TimeBarBuilder", "TradeSideClassifier", "VolumeBarBuilder",
           "feature_layout", "feature_names", "feature_set_version", "pair_keys", "pair_name", "register_config"]
