import RillModel
